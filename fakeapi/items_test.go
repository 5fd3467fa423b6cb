package fakeapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestRecordLabelsNameTheItems(t *testing.T) {
	const note = "patient-note-7d41 called twice"
	tests := []struct {
		name       string
		caseID     string
		items      []string
		wantStatus int
		want       []string
	}{
		{
			name:   "applied, in body order",
			caseID: caseA,
			items: []string{
				`{"type":"clinical","title":"Urgent","note":"` + note + `"}`,
				`{"type":"external","title":"Payment Received, Missing CIF"}`,
				`{"type":"support","title":"Refill Request",` +
					`"assignedToEmail":"agent@example.com"}`,
			},
			wantStatus: http.StatusOK,
			want: []string{
				"clinical / Urgent",
				"external / Payment Received, Missing CIF",
				"support / Refill Request",
			},
		},
		{
			name:   "refused by a case check, still named",
			caseID: caseActive,
			items: []string{
				`{"type":"support","title":"Cancellation","note":"` + note + `"}`,
			},
			wantStatus: http.StatusBadRequest,
			want:       []string{"support / Cancellation"},
		},
		{
			name:   "failed the schema: nothing named",
			caseID: caseA,
			items: []string{
				`{"type":"support","title":"Refill Request","note":"` + note + `"}`,
				`{"type":"support","title":"No such title"}`,
			},
			wantStatus: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base, _ := serve(t, testSeed())

			got := postCase(t, base, keyA, tt.caseID, addBody(tt.items...))

			require.Equal(t, tt.wantStatus, got.status, "body %s", got.body)
			recs := s.Requests()
			require.Len(t, recs, 1)
			assert.Equal(t, tt.want, recs[0].Labels)
			assert.Equal(t, len(tt.items), recs[0].Items)
			printed := fmt.Sprintf("%+v", recs[0])
			assert.NotContains(t, printed, note)
			assert.NotContains(t, printed, keyA)
		})
	}
}

func TestRequestRecordLabelsNilWhenNeverChecked(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *Server)
		key   string
	}{
		{name: "unknown key", key: "not-a-key", setup: func(*Server) {}},
		{name: "FailNext", key: keyA, setup: func(s *Server) {
			s.FailNext(1, http.StatusServiceUnavailable)
		}},
		{name: "case down", key: keyA, setup: func(s *Server) {
			s.SetDown(caseA, true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base, _ := serve(t, testSeed())
			tt.setup(s)

			body := addBody(`{"type":"support","title":"Refill Request"}`)
			got := postCase(t, base, tt.key, caseA, body)

			require.NotEqual(t, http.StatusOK, got.status, got.body)
			recs := s.Requests()
			require.Len(t, recs, 1)
			assert.Nil(t, recs[0].Labels)
		})
	}
}

// A request still in the latency wait is listed without labels; once
// answered, its record carries them.
func TestRequestRecordLabelsFilledWhenAnswered(t *testing.T) {
	s, base, _ := serve(t, testSeed())
	s.SetLatency(300 * time.Millisecond)

	done := make(chan reply, 1)
	go func() {
		body := addBody(`{"type":"support","title":"Refill Request"}`)
		r, err := send(t.Context(), http.MethodPost, base+casesPath+"/"+caseA,
			jsonHeaders(keyA), body)
		assert.NoError(t, err)
		done <- r
	}()

	require.Eventually(t, func() bool { return len(s.Requests()) == 1 },
		5*time.Second, time.Millisecond)
	assert.Nil(t, s.Requests()[0].Labels, "before the answer")

	got := <-done
	require.Equal(t, http.StatusOK, got.status, got.body)
	assert.Equal(t, []string{"support / Refill Request"}, s.Requests()[0].Labels)
}
