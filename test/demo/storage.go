package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/controller"
)

// ProvideStorage plays the cluster's storage provisioner, which a local cluster lacks: once
// the operator has created the SQLite store's PersistentVolumeClaim, it creates a hostPath
// PersistentVolume bound to that claim, so the scheduler can place the SCIM server's pod and
// the Deployment becomes available (kwok runs the pod). A postgres store needs nothing.
func (e *Env) ProvideStorage(ctx context.Context) error {
	ap, err := e.GetAP(ctx)
	if err != nil {
		return err
	}
	if ap.Spec.ScimServer.Storage.Type == scimv1alpha1.StorageTypePostgres {
		return nil
	}
	key := types.NamespacedName{Namespace: ap.Namespace, Name: controller.ScimServerName(ap) + "-data"}
	var pvc corev1.PersistentVolumeClaim
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err := e.Client.Get(ctx, key, &pvc)
		if err == nil {
			break
		}
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("get PersistentVolumeClaim %s: %w", key, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the operator's PersistentVolumeClaim %s: %w", key, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ap.Namespace + "-" + key.Name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      pvc.Spec.Resources.Requests,
			AccessModes:                   pvc.Spec.AccessModes,
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: filepath.Join(e.opts.Dir, "volumes", key.Name)}},
		},
	}
	if err := e.Client.Create(ctx, pv); err != nil {
		return fmt.Errorf("create PersistentVolume %s: %w", pv.Name, err)
	}
	e.say("Storage: no provisioner runs here, so PersistentVolume %s (hostPath) is bound to the operator's claim %s",
		pv.Name, key)
	return nil
}
