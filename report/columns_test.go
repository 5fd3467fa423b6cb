package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsResultColumn(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"line", true},
		{"Line", true},
		{"STATUS", true},
		{"escalationId", true},
		{"Escalation ID", true},
		{"escalation_id", true},
		{"escalation-id", true},
		{" error ", true},
		{"Error\t", true},
		{"lines", false},
		{"error message", false},
		{"escalation", false},
		{"caseId", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IsResultColumn(tt.name)
			assert.Equal(t, tt.want, got, "IsResultColumn(%q): got %v, want %v",
				tt.name, got, tt.want)
		})
	}
}

func TestResultColumnsOrder(t *testing.T) {
	want := []string{"line", "status", "escalationId", "error"}
	assert.Equal(t, want, ResultColumns)
}
