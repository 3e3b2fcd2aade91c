package main

import (
	"net/http"
	"time"
)

// bareBody is a fixed one-user ListResponse, the size and shape of a lookup's answer.
const bareBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,` +
	`"itemsPerPage":1,"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",` +
	`"urn:ietf:params:scim:schemas:extension:2.0:axon"],"id":"5d3c8a4e-1b7f-4c2a-9e61-0f8d2b7a9c13",` +
	`"externalId":"00u000001OKTA","userName":"officer1@agency.example","name":{"familyName":"Family1",` +
	`"givenName":"Given1"},"displayName":"Given1 Family1","preferredLanguage":"EN_US","locale":"en-US",` +
	`"active":true,"emails":[{"value":"officer1@agency.example","type":"work","primary":true}],` +
	`"meta":{"resourceType":"User","created":"2026-12-04T17:00:00Z","lastModified":"2026-12-04T17:00:00Z",` +
	`"location":"http://127.0.0.1/api/v2/agencies/bench-agency/scim/Users/5d3c8a4e-1b7f-4c2a-9e61-0f8d2b7a9c13",` +
	`"version":"W/\"1\""},"urn:ietf:params:scim:schemas:extension:2.0:axon":{"badgeId":"B00001","axonRole":"User"}}]}`

// serveBare is the bare-handler ceiling: net/http with the SCIM server's timeouts and a
// handler that writes a fixed ListResponse.
func serveBare(addr string) error {
	body := []byte(bareBody)
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json")
			_, _ = w.Write(body)
		})}
	return srv.ListenAndServe()
}
