package main

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

func TestCacheOptions_WatchNamespacesRestrictTheCache(t *testing.T) {
	tests := []struct {
		name  string
		flag  string
		want  []string
		whole bool
	}{
		{name: "unset: every namespace", flag: "", whole: true},
		{name: "only separators: every namespace", flag: " , ,", whole: true},
		{name: "one namespace", flag: "team-a", want: []string{"team-a"}},
		{name: "several, spaces and empty entries dropped", flag: "team-a, team-b,,team-a ",
			want: []string{"team-a", "team-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cacheOptions(tt.flag).DefaultNamespaces
			if tt.whole {
				if got != nil {
					t.Fatalf("DefaultNamespaces = %v, want none (cluster-wide)", got)
				}
				return
			}
			names := sets.List(sets.KeySet(got))
			if !slices.Equal(names, tt.want) {
				t.Fatalf("DefaultNamespaces = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestCacheOptions_CacheOnlyTheOperatorsPods(t *testing.T) {
	for _, flag := range []string{"", "team-a"} {
		var pods *cache.ByObject
		for obj, by := range cacheOptions(flag).ByObject {
			if _, ok := obj.(*corev1.Pod); ok {
				pods = &by
			}
		}
		if pods == nil || pods.Label == nil ||
			!pods.Label.Matches(labels.Set{"app.kubernetes.io/managed-by": "scim-operator",
				"app.kubernetes.io/name": "scim-server", "app.kubernetes.io/instance": "pd"}) ||
			pods.Label.Matches(labels.Set{"app": "something-else"}) {
			t.Fatalf("--watch-namespaces=%q: pods are cached with %+v, want only the SCIM server pods", flag, pods)
		}
	}
}
