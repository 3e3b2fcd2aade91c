package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// Ports, paths and names of the SCIM server pods.
const (
	scimPortName    = "scim"
	scimPort        = 8080
	metricsPortName = "metrics"
	metricsPort     = 9090
	containerName   = "scim-server"
	// serverBinary is where the image holds the SCIM server (see the Dockerfile): an absolute
	// path, since the distroless image's PATH does not include /.
	serverBinary    = "/scim-server"
	configMountPath = "/etc/scim"
	dataMountPath   = "/var/lib/scim"
	sqliteFile      = "directory.db"
	// databaseURLEnv carries the postgres connection URL from its Secret into the pod.
	databaseURLEnv = "SCIM_DATABASE_URL"
	// scimUserID is the distroless "nonroot" user the pods run as.
	scimUserID = 65532
	// maxNameLength keeps Service names valid DNS labels.
	maxNameLength = 63
)

// AnnotationConfigChecksum on the pod template holds the SHA-256 of the rendered
// configuration, so a configuration change rolls the pods.
const AnnotationConfigChecksum = "scim.provisioning.dev/config-checksum"

// Labels on every object the workload step renders.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelAgencyID  = "scim.provisioning.dev/agency-id"
	managerName    = "scim-operator"
)

// ScimEndpointPath is the SCIM base path of an agency; Okta appends /Users, /Groups, ...
func ScimEndpointPath(agencyID string) string {
	return "/api/v2/agencies/" + agencyID + "/scim"
}

// ScimServerName is the name of the ConfigMap, Deployment, Service, Ingress and
// PodDisruptionBudget of an AgencyProvisioning: "<name>-scim", shortened with a hash when
// that would not be a valid DNS label.
func ScimServerName(ap *scimv1alpha1.AgencyProvisioning) string {
	return dnsLabelName(ap, "-scim")
}

// ReportServiceName is the name of the Service through which the operator reads the SCIM
// server's report: "<name>-scim-report", shortened like ScimServerName.
func ReportServiceName(ap *scimv1alpha1.AgencyProvisioning) string {
	return dnsLabelName(ap, "-scim-report")
}

// dnsLabelName is ap's name with suffix, its name cut and followed by a hash of the whole
// name when that would be longer than a DNS label.
func dnsLabelName(ap *scimv1alpha1.AgencyProvisioning, suffix string) string {
	name := ap.Name + suffix
	if len(name) <= maxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(ap.Name))
	const hashPart = 1 + 8 // "-" and 8 hex digits
	return strings.TrimRight(ap.Name[:maxNameLength-len(suffix)-hashPart], "-.") + "-" +
		hex.EncodeToString(sum[:])[:8] + suffix
}

// dataClaimName is the PersistentVolumeClaim of the sqlite store.
func dataClaimName(ap *scimv1alpha1.AgencyProvisioning) string {
	return ScimServerName(ap) + "-data"
}

// selectorLabels select an AgencyProvisioning's SCIM server pods; they never change.
func selectorLabels(ap *scimv1alpha1.AgencyProvisioning) map[string]string {
	return map[string]string{LabelName: containerName, LabelInstance: ap.Name}
}

func objectLabels(ap *scimv1alpha1.AgencyProvisioning) map[string]string {
	l := selectorLabels(ap)
	l[LabelManagedBy] = managerName
	l[LabelPartOf] = managerName
	l[LabelAgencyID] = ap.Spec.AgencyID
	return l
}

func objectMeta(ap *scimv1alpha1.AgencyProvisioning, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ap.Namespace, Labels: objectLabels(ap)}
}

// scimEndpoint is the SCIM base URL Okta is given: through the Ingress, the external URL, or
// (when neither is set) the in-cluster Service, which Okta cannot reach.
func scimEndpoint(ap *scimv1alpha1.AgencyProvisioning) string {
	path := ScimEndpointPath(ap.Spec.AgencyID)
	srv := ap.Spec.ScimServer
	switch {
	case srv.Ingress != nil:
		return "https://" + srv.Ingress.Host + path
	case srv.ExternalURL != "":
		return strings.TrimRight(srv.ExternalURL, "/") + path
	default:
		return fmt.Sprintf("http://%s.%s.svc:%d%s", ScimServerName(ap), ap.Namespace, scimPort, path)
	}
}

func storageType(ap *scimv1alpha1.AgencyProvisioning) scimv1alpha1.StorageType {
	if ap.Spec.ScimServer.Storage.Type == "" {
		return scimv1alpha1.StorageTypeSQLite
	}
	return ap.Spec.ScimServer.Storage.Type
}

func replicas(ap *scimv1alpha1.AgencyProvisioning) int32 {
	return max(ap.Spec.ScimServer.Replicas, 1)
}

// renderConfig is the SCIM server's configuration file for ap.
func renderConfig(ap *scimv1alpha1.AgencyProvisioning) scimconfig.Config {
	spec := ap.Spec
	cfg := scimconfig.Config{
		AgencyID:         spec.AgencyID,
		OktaOrgURL:       strings.TrimRight(spec.Okta.OrgURL, "/"),
		SyncMode:         string(spec.SyncMode),
		Audience:         spec.Okta.Audience,
		ListenAddress:    fmt.Sprintf(":%d", scimPort),
		MetricsAddress:   fmt.Sprintf(":%d", metricsPort),
		ExtensionSchema:  spec.ScimServer.ExtensionSchema,
		DefaultLanguage:  spec.Directory.DefaultLanguage,
		Ranks:            spec.Directory.Ranks,
		Roles:            spec.Directory.Roles,
		EvidenceGroups:   spec.Directory.EvidenceGroups,
		UserGroups:       spec.Directory.UserGroups,
		CommandHierarchy: spec.Directory.CommandHierarchyGroups,
	}
	if id := ap.Status.Okta.OIDCClientID; id != "" {
		cfg.ClientIDs = []string{id}
	}
	if storageType(ap) == scimv1alpha1.StorageTypePostgres {
		cfg.DatabaseURLEnv = databaseURLEnv
	} else {
		cfg.Database = "sqlite://" + dataMountPath + "/" + sqliteFile
	}
	return cfg
}

// renderConfigMap returns the ConfigMap holding the configuration file and the file's
// checksum.
func renderConfigMap(ap *scimv1alpha1.AgencyProvisioning) (*corev1.ConfigMap, string, error) {
	data, err := yaml.Marshal(renderConfig(ap))
	if err != nil {
		return nil, "", fmt.Errorf("render %s: %w", scimconfig.FileName, err)
	}
	sum := sha256.Sum256(data)
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: objectMeta(ap, ScimServerName(ap)),
		Data:       map[string]string{scimconfig.FileName: string(data)},
	}
	return cm, hex.EncodeToString(sum[:]), nil
}

// defaultResources are the SCIM server container's requests and limits when the spec has none.
func defaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("50m"),
			corev1.ResourceMemory: resource.MustParse("64Mi"),
		},
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
}

// renderDeployment is the SCIM server's Deployment. image is used when the spec names none.
func renderDeployment(ap *scimv1alpha1.AgencyProvisioning, image, configChecksum string) *appsv1.Deployment {
	srv := ap.Spec.ScimServer
	if srv.Image != "" {
		image = srv.Image
	}
	resources := defaultResources()
	if srv.Resources != nil {
		resources = *srv.Resources
	}
	strategy := appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			MaxSurge:       ptr.To(intstr.FromInt32(1)),
		},
	}
	if storageType(ap) == scimv1alpha1.StorageTypeSQLite {
		// One writer on a ReadWriteOnce volume: the old pod must stop before the new starts.
		strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(ap, ScimServerName(ap)),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas(ap)),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(ap)},
			Strategy: strategy,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      objectLabels(ap),
					Annotations: map[string]string{AnnotationConfigChecksum: configChecksum},
				},
				Spec: renderPodSpec(ap, image, srv.ImagePullPolicy, resources),
			},
		},
	}
}

func renderPodSpec(
	ap *scimv1alpha1.AgencyProvisioning,
	image string,
	pullPolicy corev1.PullPolicy,
	resources corev1.ResourceRequirements,
) corev1.PodSpec {
	return corev1.PodSpec{
		// The pods face the internet and need no Kubernetes credentials.
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](scimUserID),
			RunAsGroup:     ptr.To[int64](scimUserID),
			FSGroup:        ptr.To[int64](scimUserID),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:            containerName,
			Image:           image,
			ImagePullPolicy: pullPolicy,
			Command:         []string{serverBinary},
			Args:            []string{"--config", configMountPath + "/" + scimconfig.FileName},
			Ports: []corev1.ContainerPort{
				{Name: scimPortName, ContainerPort: scimPort, Protocol: corev1.ProtocolTCP},
				{Name: metricsPortName, ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP},
			},
			Env:       renderEnv(ap),
			Resources: resources,
			// A start that fails (bad configuration, TLS files) leaves its last log lines in the
			// pod's status, where the ScimServerAvailable condition quotes them.
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			LivenessProbe:            httpProbe("/healthz", 10, 3),
			ReadinessProbe:           httpProbe("/readyz", 5, 2),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				RunAsNonRoot:             ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			VolumeMounts: renderVolumeMounts(ap),
		}},
		Volumes: renderVolumes(ap),
	}
}

func httpProbe(path string, periodSeconds, failureThreshold int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(metricsPortName)},
		},
		PeriodSeconds:    periodSeconds,
		TimeoutSeconds:   2,
		FailureThreshold: failureThreshold,
	}
}

func renderEnv(ap *scimv1alpha1.AgencyProvisioning) []corev1.EnvVar {
	pg := ap.Spec.ScimServer.Storage.Postgres
	if storageType(ap) != scimv1alpha1.StorageTypePostgres || pg == nil {
		return nil
	}
	return []corev1.EnvVar{{
		Name: databaseURLEnv,
		ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: pg.ConnectionSecretRef.Name},
			Key:                  postgresKey(pg),
		}},
	}}
}

func postgresKey(pg *scimv1alpha1.PostgresStorage) string {
	if pg.ConnectionSecretRef.Key == "" {
		return "url"
	}
	return pg.ConnectionSecretRef.Key
}

func renderVolumeMounts(ap *scimv1alpha1.AgencyProvisioning) []corev1.VolumeMount {
	mounts := []corev1.VolumeMount{
		{Name: "config", MountPath: configMountPath, ReadOnly: true},
		{Name: "tmp", MountPath: "/tmp"},
	}
	if storageType(ap) == scimv1alpha1.StorageTypeSQLite {
		mounts = append(mounts, corev1.VolumeMount{Name: "data", MountPath: dataMountPath})
	}
	return mounts
}

func renderVolumes(ap *scimv1alpha1.AgencyProvisioning) []corev1.Volume {
	vols := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ScimServerName(ap)},
		}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			SizeLimit: ptr.To(resource.MustParse("64Mi")),
		}}},
	}
	if storageType(ap) == scimv1alpha1.StorageTypeSQLite {
		vols = append(vols, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: dataClaimName(ap)},
		}})
	}
	return vols
}

// renderService exposes the SCIM port and the metrics port of the ready pods inside the
// cluster.
func renderService(ap *scimv1alpha1.AgencyProvisioning) *corev1.Service {
	return podService(ap, ScimServerName(ap), false, scimPortName, metricsPortName)
}

// renderReportService exposes only the metrics port, of every pod, ready or not: the operator
// reads the report through it, and a pod that cannot open its store is not ready but can say
// why. The API Service keeps routing to ready pods only.
func renderReportService(ap *scimv1alpha1.AgencyProvisioning) *corev1.Service {
	return podService(ap, ReportServiceName(ap), true, metricsPortName)
}

// podService is a ClusterIP Service named name for the SCIM server's pods and the named ports
// of their container, each under the same number (scimPort, metricsPort).
func podService(ap *scimv1alpha1.AgencyProvisioning, name string, notReadyToo bool,
	portNames ...string) *corev1.Service {
	numbers := map[string]int32{scimPortName: scimPort, metricsPortName: metricsPort}
	ports := make([]corev1.ServicePort, 0, len(portNames))
	for _, p := range portNames {
		ports = append(ports, corev1.ServicePort{Name: p, Port: numbers[p], TargetPort: intstr.FromString(p),
			Protocol: corev1.ProtocolTCP})
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(ap, name),
		Spec: corev1.ServiceSpec{
			Type:                     corev1.ServiceTypeClusterIP,
			Selector:                 selectorLabels(ap),
			PublishNotReadyAddresses: notReadyToo,
			Ports:                    ports,
		},
	}
}

// renderIngress routes only the agency's SCIM path to the SCIM port; the metrics port is never
// exposed. The operator-wide defaults fill what the agency's spec leaves out. It returns nil
// when the spec asks for no Ingress.
func renderIngress(ap *scimv1alpha1.AgencyProvisioning, defaults IngressDefaults) *networkingv1.Ingress {
	in := ap.Spec.ScimServer.Ingress
	if in == nil {
		return nil
	}
	meta := objectMeta(ap, ScimServerName(ap))
	meta.Annotations = defaults.annotations(in.Annotations)
	class := in.ClassName
	if (class == nil || *class == "") && defaults.ClassName != "" {
		class = ptr.To(defaults.ClassName)
	}
	return &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta,
		Spec: networkingv1.IngressSpec{
			IngressClassName: class,
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{in.Host}, SecretName: in.TLSSecretName}},
			Rules: []networkingv1.IngressRule{{
				Host: in.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     ScimEndpointPath(ap.Spec.AgencyID),
						PathType: ptr.To(networkingv1.PathTypePrefix),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: ScimServerName(ap),
							Port: networkingv1.ServiceBackendPort{Name: scimPortName},
						}},
					}},
				}},
			}},
		},
	}
}

// renderDataClaim is the sqlite store's volume claim, or nil for postgres.
func renderDataClaim(ap *scimv1alpha1.AgencyProvisioning) *corev1.PersistentVolumeClaim {
	if storageType(ap) != scimv1alpha1.StorageTypeSQLite {
		return nil
	}
	sqlite := ap.Spec.ScimServer.Storage.SQLite
	size := resource.MustParse("1Gi")
	if sqlite.Size != nil {
		size = *sqlite.Size
	}
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: objectMeta(ap, dataClaimName(ap)),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: sqlite.StorageClassName,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: size},
			},
		},
	}
}

// renderPodDisruptionBudget keeps one pod up during voluntary disruptions when there are
// several; it returns nil for a single replica.
func renderPodDisruptionBudget(ap *scimv1alpha1.AgencyProvisioning) *policyv1.PodDisruptionBudget {
	if replicas(ap) <= 1 {
		return nil
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(ap, ScimServerName(ap)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector:     &metav1.LabelSelector{MatchLabels: selectorLabels(ap)},
		},
	}
}
