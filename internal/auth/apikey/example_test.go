package apikey_test

import (
	"fmt"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
)

// What `cairn auth create-key` does: print the key once, commit the entry.
func ExampleNewKey() {
	key, entry, err := apikey.NewKey("grafana-status", []string{"status:read", "adapters:read"}, time.Date(2027, 11, 30, 23, 59, 59, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	set, _ := apikey.NewSet([]v1.APIKey{entry})
	k, err := set.Verify(key, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(strings.HasPrefix(key, "cairn_"+entry.ID+"_"), strings.HasPrefix(entry.Hash, "sha256:"), entry.Expires)
	fmt.Println(k.Name, k.Scopes, err)
	// Output:
	// true true 2027-11-30T23:59:59Z
	// grafana-status [status:read adapters:read] <nil>
}
