package localcluster

// Process names one running component of the cluster.
type Process struct {
	// Name is the component (etcd, kube-apiserver, ...); Binary its executable; PID its id.
	Name   string
	Binary string
	PID    int
}

// Components lists the components Start ran, in start order, so that callers (the e2e test)
// can check that Stop left none of them running.
func (c *Cluster) Components() []Process {
	out := make([]Process, 0, len(c.Processes))
	for _, p := range c.Processes {
		out = append(out, Process{Name: p.Name, Binary: p.Binary, PID: p.PID})
	}
	return out
}
