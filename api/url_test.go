package api_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/api"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // "" when an error is wanted
		wantErr string
	}{
		{"production", api.ProductionURL, api.ProductionURL, ""},
		{"staging", api.StagingURL, api.StagingURL, ""},
		{"trailing slash", api.ProductionURL + "/", api.ProductionURL, ""},
		{"https with port", "https://example.com:8443", "https://example.com:8443", ""},
		{"upper-case scheme", "HTTPS://example.com", "https://example.com", ""},
		{"spaces around", "  https://example.com  ", "https://example.com", ""},
		{"http loopback v4", "http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http loopback 127/8", "http://127.1.2.3", "http://127.1.2.3", ""},
		{"http loopback v6", "http://[::1]:9000/", "http://[::1]:9000", ""},
		{"http localhost", "http://LocalHost:1234", "http://LocalHost:1234", ""},
		{"http remote", "http://api.care360-next.carevalidate.com", "", "plain http"},
		{"http private address", "http://10.0.0.1", "", "plain http"},
		{"http name resolving to loopback is not trusted", "http://localhost.example.com", "", "plain http"},
		{"other scheme", "ftp://example.com", "", "scheme must be https"},
		{"no scheme", "example.com", "", "want scheme://host"},
		{"empty", "", "", "want scheme://host"},
		{"path", "https://example.com/api/v1", "", "no path"},
		{"query", "https://example.com/?x=1", "", "no query"},
		{"empty query", "https://example.com/?", "", "no query"},
		{"fragment", "https://example.com/#top", "", "no fragment"},
		{"user info", "https://user:secret@example.com", "", "user info"},
		{"opaque", "https:example.com", "", "want scheme://host"},
		{"bad port", "https://example.com:port", "", "base url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := api.ParseBaseURL(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err, "got %v, want an error", got)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "secret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
}
