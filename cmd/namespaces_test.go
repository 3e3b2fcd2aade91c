package main

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
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
