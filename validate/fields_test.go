package validate

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCaseID(t *testing.T) {
	const id = "3f2c8a1e-9b4d-4c2a-8e7f-0a1b2c3d4e5f"
	tests := []struct {
		name, in, want string
	}{
		{"lower", id, id},
		{"upper", strings.ToUpper(id), id},
		{"surrounding space", " \t" + id + " ", id},
		{"empty", "", ""},
		{"braces", "{" + id + "}", ""},
		{"urn", "urn:uuid:" + id, ""},
		{"no dashes", strings.ReplaceAll(id, "-", ""), ""},
		{"dash misplaced", "3f2c8a1e9-b4d-4c2a-8e7f-0a1b2c3d4e5f", ""},
		{"not hex", "3f2c8a1e-9b4d-4c2a-8e7f-0a1b2c3d4e5g", ""},
		{"too long", id + "0", ""},
		{"inner space", "3f2c8a1e-9b4d-4c2a-8e7f 0a1b2c3d4e5f", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCaseID(tt.in)
			if tt.want == "" {
				assert.EqualError(t, err, "not a uuid (want 8-4-4-4-12 hex digits)")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseEmail(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"plain", "agent@example.com", "agent@example.com", ""},
		{"kept as written", "  Agent.Smith+tpa@Example.COM ", "Agent.Smith+tpa@Example.COM", ""},
		{"display name", "Agent <agent@example.com>", "", "not a plain address"},
		{"angle brackets", "<agent@example.com>", "", "not a plain address"},
		{"comment", "agent@example.com (Agent)", "", "not a plain address"},
		{"comma list", "a@example.com, b@example.com", "", "more than one address"},
		{"semicolon list", "a@example.com;b@example.com", "", "more than one address"},
		{"no at", "agent.example.com", "", "not an email address"},
		{"no domain", "agent@", "", "not an email address"},
		{"space inside", "ag ent@example.com", "", "not an email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEmail(tt.in)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseDateOrder(t *testing.T) {
	tests := []struct {
		in   string
		want DateOrder
		ok   bool
	}{
		{"mdy", MDY, true}, {"DMY", DMY, true}, {" dmy ", DMY, true},
		{"", MDY, false}, {"ymd", MDY, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDateOrder(tt.in)
			assert.Equal(t, tt.ok, err == nil, "err %v", err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err, "tzdata for %s", name)
	return loc
}

func TestParseDateForms(t *testing.T) {
	// Each form, read in UTC, MDY; want is the UTC instant sent to the API.
	tests := []struct {
		name, in, want string
	}{
		{"rfc3339 z", "2025-06-01T12:00:00Z", "2025-06-01T12:00:00.000Z"},
		{"rfc3339 millis", "2025-06-01T12:00:00.000Z", "2025-06-01T12:00:00.000Z"},
		{"rfc3339 fraction", "2025-06-01T12:00:00.123456Z", "2025-06-01T12:00:00.123Z"},
		{"rfc3339 offset", "2025-06-01T08:00:00-04:00", "2025-06-01T12:00:00.000Z"},
		{"rfc3339 plus offset", "2025-06-01T17:30:00+05:30", "2025-06-01T12:00:00.000Z"},
		{"rfc3339 lower case", "2025-06-01t12:00:00z", "2025-06-01T12:00:00.000Z"},
		{"rfc3339 space", "2025-06-01 12:00:00Z", "2025-06-01T12:00:00.000Z"},
		{"iso date", "2025-06-01", "2025-06-01T00:00:00.000Z"},
		{"iso minute space", "2025-06-01 12:34", "2025-06-01T12:34:00.000Z"},
		{"iso second space", "2025-06-01 12:34:56", "2025-06-01T12:34:56.000Z"},
		{"iso minute T", "2025-06-01T12:34", "2025-06-01T12:34:00.000Z"},
		{"iso second T", "2025-06-01T12:34:56", "2025-06-01T12:34:56.000Z"},
		{"iso fraction no offset", "2025-06-01T12:34:56.789", "2025-06-01T12:34:56.789Z"},
		{"sheet date", "6/1/2025", "2025-06-01T00:00:00.000Z"},
		{"sheet date two digits", "06/01/2025", "2025-06-01T00:00:00.000Z"},
		{"sheet minute", "6/1/2025 12:30", "2025-06-01T12:30:00.000Z"},
		{"sheet minute one-digit hour", "6/1/2025 7:05", "2025-06-01T07:05:00.000Z"},
		{"sheet second", "6/1/2025 23:59:59", "2025-06-01T23:59:59.000Z"},
		{"sheet pm", "6/1/2025 3:04 PM", "2025-06-01T15:04:00.000Z"},
		{"sheet am lower", "6/1/2025 3:04 am", "2025-06-01T03:04:00.000Z"},
		{"sheet noon", "6/1/2025 12:00 PM", "2025-06-01T12:00:00.000Z"},
		{"sheet midnight", "6/1/2025 12:00 AM", "2025-06-01T00:00:00.000Z"},
		{"sheet pm seconds mixed case", "6/1/2025 3:04:05 Pm", "2025-06-01T15:04:05.000Z"},
		{"sheet pm no space", "6/1/2025 3:04PM", "2025-06-01T15:04:00.000Z"},
		{"extra spaces", "  6/1/2025   3:04  PM ", "2025-06-01T15:04:00.000Z"},
		{"leap day", "2024-02-29", "2024-02-29T00:00:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, nil, MDY)
			require.NoError(t, err)
			assert.Equal(t, tt.want, FormatDate(got))
		})
	}
}

func TestParseDateMonthDayOrder(t *testing.T) {
	tests := []struct {
		name, in string
		order    DateOrder
		want     string
	}{
		{"mdy", "6/1/2025", MDY, "2025-06-01"},
		{"dmy", "6/1/2025", DMY, "2025-01-06"},
		{"mdy day 13", "1/13/2025", MDY, "2025-01-13"},
		{"dmy day 13", "13/1/2025", DMY, "2025-01-13"},
		{"dmy with time", "31/12/2025 11:59 PM", DMY, "2025-12-31"},
		{"iso ignores order", "2025-06-01", DMY, "2025-06-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, nil, tt.order)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Format("2006-01-02"))
		})
	}
}

func TestParseDateZones(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tokyo := mustZone(t, "Asia/Tokyo")
	tests := []struct {
		name, in string
		loc      *time.Location
		want     string
	}{
		{"nil is utc", "2025-06-01 12:00", nil, "2025-06-01T12:00:00.000Z"},
		{"summer in new york", "2025-06-01 12:00", ny, "2025-06-01T16:00:00.000Z"},
		{"winter in new york", "1/15/2025 12:00 PM", ny, "2025-01-15T17:00:00.000Z"},
		{"date only is local midnight", "2025-06-01", ny, "2025-06-01T04:00:00.000Z"},
		{"tokyo previous utc day", "6/1/2025 8:00 AM", tokyo, "2025-05-31T23:00:00.000Z"},
		{"offset beats zone", "2025-06-01T12:00:00Z", ny, "2025-06-01T12:00:00.000Z"},
		{"negative offset beats zone", "2025-06-01T12:00:00-07:00", tokyo, "2025-06-01T19:00:00.000Z"},
		// 2025-03-09: New York clocks jump from 02:00 EST to 03:00 EDT.
		{"before spring forward", "3/9/2025 1:59 AM", ny, "2025-03-09T06:59:00.000Z"},
		{"after spring forward", "3/9/2025 3:00 AM", ny, "2025-03-09T07:00:00.000Z"},
		// 2025-11-02: 01:00-02:00 happens twice; the first (EDT) is taken.
		{"repeated hour", "2025-11-02 01:30", ny, "2025-11-02T05:30:00.000Z"},
		{"after fall back", "2025-11-02 02:30", ny, "2025-11-02T07:30:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, tt.loc, MDY)
			require.NoError(t, err)
			assert.Equal(t, tt.want, FormatDate(got))
		})
	}
}

func TestParseDateRefusals(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name, in string
		order    DateOrder
		loc      *time.Location
		wantErr  string
	}{
		{"empty", "  ", MDY, nil, "empty date"},
		{"garbage", "next tuesday", MDY, nil, "not a date in a known form"},
		{"february 30 sheet", "2/30/2025", MDY, nil, "day out of range"},
		{"february 29 non-leap", "2025-02-29", MDY, nil, "day out of range"},
		{"month 13 iso", "2025-13-01", MDY, nil, "month out of range"},
		{"month 13 mdy", "13/1/2025", MDY, nil, "month out of range"},
		{"month 13 dmy", "1/13/2025", DMY, nil, "month out of range"},
		{"day 31 in june dmy", "31/6/2025", DMY, nil, "day out of range"},
		{"hour 24", "2025-06-01 24:00", MDY, nil, "hour out of range"},
		{"hour 13 pm", "6/1/2025 13:00 PM", MDY, nil, "hour out of range"},
		{"minute 60", "6/1/2025 12:60", MDY, nil, "minute out of range"},
		{"rfc3339 day 31 april", "2025-04-31T00:00:00Z", MDY, nil, "day out of range"},
		{"two-digit year", "6/1/25", MDY, nil, "not a date in a known form"},
		{"one-digit iso month", "2025-6-1", MDY, nil, "not a date in a known form"},
		{"trailing text", "2025-06-01 12:00 tomorrow", MDY, nil, "not a date in a known form"},
		{"time without date", "12:00", MDY, nil, "not a date in a known form"},
		{"dots", "01.06.2025", DMY, nil, "not a date in a known form"},
		{"minute offset without seconds", "2025-06-01T12:00Z", MDY, nil, "not a date in a known form"},
		{"excel serial", "45809", MDY, nil, "not a date in a known form"},
		{"year before 1970", "1900-01-01", MDY, nil, "year out of range"},
		{"utc year past 9999", "9999-12-31T23:00:00-05:00", MDY, nil, "year out of range"},
		{"skipped by spring forward", "3/9/2025 2:30 AM", MDY, ny, "time does not exist in America/New_York"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, tt.loc, tt.order)
			require.Error(t, err, "got %v", got)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), `"`+strings.TrimSpace(tt.in), "quotes the value")
			assert.Equal(t, strings.ToLower(err.Error()[:1]), err.Error()[:1])
		})
	}
}

func TestFormatDate(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"utc", time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), "2025-06-01T12:00:00.000Z"},
		{"zone", time.Date(2025, 6, 1, 8, 0, 0, 0, ny), "2025-06-01T12:00:00.000Z"},
		{"millis kept, rest dropped", time.Date(2025, 6, 1, 12, 0, 0, 987_654_321, time.UTC),
			"2025-06-01T12:00:00.987Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, FormatDate(tt.in))
		})
	}
}

func TestFormatDateMatchesLayout(t *testing.T) {
	// FormatDate writes digits by hand; it must agree with time.Format.
	ny := mustZone(t, "America/New_York")
	for _, in := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 12, 31, 23, 59, 59, 999_999_999, ny),
		time.Date(9999, 12, 31, 23, 59, 59, 1_000_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(12, 3, 4, 5, 6, 7, 8_000_000, time.UTC),
	} {
		t.Run(in.String(), func(t *testing.T) {
			assert.Equal(t, in.UTC().Format("2006-01-02T15:04:05.000Z"), FormatDate(in))
		})
	}
}
