package validate

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
)

// ParseCaseID reads a case id: a UUID written as 8-4-4-4-12 hexadecimal
// digits in any case, with surrounding space ignored and nothing else
// around it (no braces, no "urn:uuid:"). It returns the id in lower case.
func ParseCaseID(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) != 36 {
		return "", errors.New("not a uuid (want 8-4-4-4-12 hex digits)")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", errors.New("not a uuid (want 8-4-4-4-12 hex digits)")
			}
			continue
		}
		if !isHex(c) {
			return "", errors.New("not a uuid (want 8-4-4-4-12 hex digits)")
		}
	}
	if strings.IndexFunc(s, unicode.IsUpper) < 0 {
		return s, nil // already lower case: no copy
	}
	return strings.ToLower(s), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ParseEmail reads one plain email address, such as agent@example.com, and
// returns it trimmed of surrounding space, otherwise as written. A display
// name, angle brackets, a comment or a list of addresses is refused: the
// API takes exactly one address.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, ",;") {
		return "", errors.New("holds more than one address; give exactly one")
	}
	// Most addresses are plain; net/mail costs far more than this scan.
	if isSimpleAddress(s) {
		return s, nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", errors.New("not an email address")
	}
	if a.Name != "" || a.Address != s {
		return "", errors.New("not a plain address (no name, brackets or comment)")
	}
	return s, nil
}

// isSimpleAddress reports whether s is local@domain where both sides are
// dot-separated runs of letters, digits and a few symbols. Every such
// address is one net/mail accepts as written; anything else goes to it.
func isSimpleAddress(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && isDotAtom(local, "._%+-") && isDotAtom(domain, ".-") &&
		strings.Contains(domain, ".")
}

// isDotAtom reports whether s is non-empty, uses only ASCII letters, digits
// and the bytes in extra, and has no dot at either end or two in a row.
func isDotAtom(s, extra string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// Layouts of the date forms ParseDate reads. The 12-hour forms are parsed
// after the input is upper-cased, so am/pm may be written in any case.
const (
	layoutISODate    = "2006-01-02"
	layoutISOMinute  = "2006-01-02T15:04"
	layoutISOSecond  = "2006-01-02T15:04:05"
	layoutMDY        = "1/2/2006"
	layoutDMY        = "2/1/2006"
	layout24Minute   = " 15:04"
	layout24Second   = " 15:04:05"
	layout12Minute   = " 3:04 PM"
	layout12Second   = " 3:04:05 PM"
	layoutSentToAPI  = "2006-01-02T15:04:05.000Z"
	minYear, maxYear = 1970, 9999
)

// ParseDate reads a follow-up date in one of these forms:
//
//	RFC 3339, with or without fractional seconds: 2025-06-01T12:00:00Z,
//	  2025-06-01T08:00:00.5-04:00
//	2025-06-01, 2025-06-01 12:00, 2025-06-01 12:00:30 (or T for the space)
//	6/1/2025, 6/1/2025 12:00, 6/1/2025 12:00:30, 6/1/2025 12:00 PM,
//	  6/1/2025 12:00:30 pm (one or two digits for month and day)
//
// Numeric dates with slashes are read month first for MDY and day first for
// DMY. A form without an offset is a wall-clock time in loc (nil means UTC);
// a date alone is midnight there. Runs of white space count as one space.
//
// A date or time that does not exist is an error, never moved to a nearby
// one: 2/30/2025, 2025-02-29, month 13, hour 24, or a wall-clock time that
// a daylight-saving change skips in loc. A wall-clock time that occurs
// twice in loc (clocks going back) is read as its first occurrence. Years
// outside 1970-9999 (in UTC) are refused. Error messages do not quote s.
func ParseDate(s string, loc *time.Location, order DateOrder) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	s = cleanDate(s)
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}

	layout, offset := dateLayout(s, order)
	if layout == "" {
		return time.Time{}, unreadableDate(order)
	}

	s = normalizeClock(layout, s)
	var t time.Time
	var err error
	if offset {
		t, err = time.Parse(layout, s)
	} else {
		t, err = parseWallClock(layout, s, loc)
	}
	if err != nil {
		return time.Time{}, dateError(err, order)
	}

	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return time.Time{}, fmt.Errorf("year out of range (%d-%d)", minYear, maxYear)
	}
	return t, nil
}

// cleanDate trims s, makes each run of white space one space and upper-cases
// it. The usual value is already clean and is returned without copying.
func cleanDate(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		dirty := c >= 0x80 || 'a' <= c && c <= 'z' ||
			c == ' ' && s[i+1] == ' ' || c != ' ' && c <= ' '
		if dirty {
			return strings.ToUpper(strings.Join(strings.Fields(s), " "))
		}
	}
	return s
}

// dateLayout picks the one layout s can be in, from its shape, and says
// whether that layout carries its own offset. It returns "" when no form
// fits. s is trimmed, upper-cased and has single spaces.
func dateLayout(s string, order DateOrder) (layout string, offset bool) {
	date, clock, hasClock := strings.Cut(s, " ")

	// Spreadsheet forms: M/D/YYYY or D/M/YYYY, then an optional time.
	if strings.Contains(date, "/") {
		layout = layoutMDY
		if order == DMY {
			layout = layoutDMY
		}
		if !hasClock {
			return layout, false
		}
		// Accept "3:04PM" as well as "3:04 PM".
		twelve := strings.HasSuffix(clock, "AM") || strings.HasSuffix(clock, "PM")
		switch colons := strings.Count(clock, ":"); {
		case twelve && colons == 1:
			return layout + layout12Minute, false
		case twelve && colons == 2:
			return layout + layout12Second, false
		case colons == 1:
			return layout + layout24Minute, false
		case colons == 2:
			return layout + layout24Second, false
		}
		return "", false
	}

	// ISO forms: a date, then T or a space, then a time and maybe an offset.
	if len(s) == len(layoutISODate) {
		return layoutISODate, false
	}
	if len(s) < len(layoutISOMinute) || s[10] != 'T' && s[10] != ' ' {
		return "", false
	}
	clock = s[11:]
	if strings.HasSuffix(clock, "Z") || strings.ContainsAny(clock, "+-") {
		return time.RFC3339, true
	}
	switch strings.Count(clock, ":") {
	case 1:
		return layoutISOMinute, false
	case 2:
		return layoutISOSecond, false
	}
	return "", false
}

// parseWallClock reads s, a form without an offset, as a wall-clock time in
// loc, and refuses a time that loc skips.
func parseWallClock(layout, s string, loc *time.Location) (time.Time, error) {
	w, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, err
	}
	if loc == time.UTC {
		return w, nil
	}

	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(),
		w.Second(), w.Nanosecond(), loc)
	if !sameWallClock(t, w) {
		return time.Time{}, fmt.Errorf(
			"time does not exist in %s (clocks go forward then)", loc)
	}
	return t, nil
}

// sameWallClock reports whether a and b show the same date and time of day.
func sameWallClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd &&
		a.Hour() == b.Hour() && a.Minute() == b.Minute() && a.Second() == b.Second()
}

// normalizeClock makes s fit layout's separators: a T for the ISO space
// and a space before AM or PM.
func normalizeClock(layout, s string) string {
	if strings.HasPrefix(layout, layoutISODate) && len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(layout, " PM") {
		n := len(s) - 2
		if s[n-1] != ' ' {
			s = s[:n] + " " + s[n:]
		}
	}
	return s
}

// dateError turns a parse error into a short message that does not quote
// the value. Range errors ("day out of range") keep their cause; any other
// failure means the value is in no form we read.
func dateError(err error, order DateOrder) error {
	var pe *time.ParseError
	if !errors.As(err, &pe) {
		return err // parseWallClock's own message
	}
	msg := strings.TrimPrefix(pe.Message, ": ")
	if strings.HasSuffix(msg, " out of range") {
		return errors.New(msg)
	}
	return unreadableDate(order)
}

// unreadableDate is the error for a value in none of the accepted forms.
func unreadableDate(order DateOrder) error {
	numeric := "6/1/2025"
	if order == DMY {
		numeric = "1/6/2025"
	}
	return fmt.Errorf("not a date in a known form (e.g. 2025-06-01, "+
		"2025-06-01 12:00, %s 12:00 PM, 2025-06-01T12:00:00Z)", numeric)
}

// FormatDate writes t as the API wants it: UTC with milliseconds, for
// example 2025-06-01T12:00:00.000Z. Finer fractions are dropped.
func FormatDate(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	if y < 0 || y > 9999 {
		return t.Format(layoutSentToAPI) // never from ParseDate
	}

	// Written by hand: time.Format re-reads its layout on every call, and
	// this runs once per row.
	var b [len(layoutSentToAPI)]byte
	put := func(at, width, v int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, y)
	put(5, 2, int(mo))
	put(8, 2, d)
	put(11, 2, h)
	put(14, 2, mi)
	put(17, 2, sec)
	put(20, 3, t.Nanosecond()/int(time.Millisecond))
	b[4], b[7], b[10], b[13], b[16], b[19], b[23] = '-', '-', 'T', ':', ':', '.', 'Z'
	return string(b[:])
}

// ParseDateOrder reads "mdy" or "dmy", in any case.
func ParseDateOrder(s string) (DateOrder, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "mdy":
		return MDY, nil
	case "dmy":
		return DMY, nil
	}
	return MDY, fmt.Errorf("unknown date order %q (want mdy or dmy)", s)
}
