package scim

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

func TestUsers_ConcurrentDuplicatesGetOneCreateAndConflicts(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, scimconfig.SyncModeUsersOnly)
			tests := []struct {
				name  string
				field string
				edit  func(n int, u map[string]any)
			}{
				{name: "same userName in another case", field: "userName", edit: func(n int, u map[string]any) {
					u["userName"] = fmt.Sprintf("SAME%d@agency.example", n%2) // two spellings of one name
					u["userName"] = "Same@Agency.Example"
					if n%2 == 0 {
						u["userName"] = "same@agency.example"
					}
				}},
				{name: "same primary email", field: "email", edit: func(_ int, u map[string]any) {
					u["emails"] = []map[string]any{{"value": "shared@agency.example", "primary": true}}
				}},
				{
					name:  "same externalId",
					field: "externalId",
					edit:  func(_ int, u map[string]any) { u["externalId"] = "00uSHARED" },
				},
			}
			base := 100
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					const parallel = 8
					statuses := make([]int, parallel)
					var wg sync.WaitGroup
					for i := range parallel {
						wg.Add(1)
						go func() {
							defer wg.Done()
							u := oktaUser(base + i)
							tt.edit(i, u)
							statuses[i] = h.do(http.MethodPost, "/Users", mustJSON(u)).status
						}()
					}
					wg.Wait()
					base += parallel
					created, conflicts := 0, 0
					for _, s := range statuses {
						switch s {
						case http.StatusCreated:
							created++
						case http.StatusConflict:
							conflicts++
						}
					}
					if created != 1 || conflicts != parallel-1 {
						t.Errorf("statuses %v: want one 201 and %d 409", statuses, parallel-1)
					}
				})
			}
		})
	}
}
