package main

import (
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/provisioning-dev/scim-operator/internal/controller"
)

// cacheOptions restricts the manager's cache, and so every watch and cached read, to the
// comma-separated namespaces of --watch-namespaces (empty leaves it cluster-wide), and to the
// objects of the kinds controller.CacheByObject narrows.
func cacheOptions(watchNamespaces string) cache.Options {
	opts := cache.Options{ByObject: controller.CacheByObject()}
	namespaces := map[string]cache.Config{}
	for ns := range strings.SplitSeq(watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces[ns] = cache.Config{}
		}
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = namespaces
	}
	return opts
}
