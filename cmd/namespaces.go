package main

import (
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// cacheOptions restricts the manager's cache, and so every watch and cached read, to the
// comma-separated namespaces of --watch-namespaces; empty leaves it cluster-wide.
func cacheOptions(watchNamespaces string) cache.Options {
	namespaces := map[string]cache.Config{}
	for ns := range strings.SplitSeq(watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces[ns] = cache.Config{}
		}
	}
	if len(namespaces) == 0 {
		return cache.Options{}
	}
	return cache.Options{DefaultNamespaces: namespaces}
}
