package importer

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// rsmFuzzJournal returns a journal in memory, as a run writes one: the
// snapshot of every row, then the records of finished cases. Every row
// carries note, so that the fuzzer decides what the quoting must survive.
func rsmFuzzJournal(t testing.TB, note string) []byte {
	t.Helper()
	rows := make([][]string, len(rsmInputs))
	for i, f := range rsmInputs {
		rows[i] = append([]string(nil), f...)
		rows[i][3] = f[3] + note
	}
	recs := []report.Record{
		rsmRec(2, report.Pending, "", rows[0]),
		rsmRec(4, report.Pending, "", rows[1]),
		rsmRec(5, report.Skipped, "esc-old", rows[2]),
		rsmRec(6, report.Pending, "", rows[3]),
		rsmRec(7, report.Pending, "", rows[4]),
		rsmRec(8, report.Pending, "", rows[5]),

		rsmRec(2, report.Created, "esc-0", rows[0]),
		rsmRec(4, report.AlreadyActive, "", rows[1]),
		rsmRec(6, report.Error, "", rows[3]),
		rsmRec(7, report.Created, "esc-4", rows[4]),
		rsmRec(8, report.Failed, "", rows[5]),
	}
	return rsmResults(t, rsmHeader, recs...)
}

// FuzzLoadResume checks that reading earlier results never panics, and
// that a journal cut short anywhere gives a subset of the rows the whole
// journal shows done, holding every row done before the cut.
func FuzzLoadResume(f *testing.F) {
	// Seeds: whole files of every shape, then notes for the journal.
	for _, name := range []string{"testdata/results.csv", "testdata/semicolon.csv"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data, "", uint16(0))
		}
	}
	seedJournal := rsmFuzzJournal(f, "")
	f.Add(seedJournal, "", uint16(len(seedJournal)/2))
	f.Add([]byte("\ufeffCase ID;Type;Title;Status;Escalation Id\r\n"+
		rsmCase1+";support;Cancellation;created;esc-1\r\n"), "a,b", uint16(7))
	f.Add([]byte("caseId,type,title,status,escalationId\n"+
		rsmCase1+",support,\"Cancel\nlation\",created,\"esc"), "\"\n\"", uint16(300))
	f.Add([]byte{}, "\r\n\r", uint16(1))
	f.Add([]byte("\x00\xff\"\n"), ",\"\",\n\"", uint16(999))

	chk := &validate.Checker{}
	f.Fuzz(func(t *testing.T, data []byte, note string, cut uint16) {
		// Any bytes: an error or a consistent Resume, never a panic.
		res, err := readResume(bytes.NewReader(data), chk)
		if err == nil {
			require.GreaterOrEqual(t, res.Unreadable, 0)
			require.LessOrEqual(t, res.Unreadable, res.Records)
			require.LessOrEqual(t, res.Len(), res.Records-res.Unreadable)
		} else {
			require.Nil(t, res)
		}

		// A journal cut anywhere after its header.
		journal := rsmFuzzJournal(t, note)
		oracle := rsmOracle(t, journal, chk)
		full := rsmDoneBefore(oracle, len(journal))
		whole, err := readResume(bytes.NewReader(journal), chk)
		require.NoError(t, err)
		require.Equal(t, full, rsmDone(whole))

		_, header := rsmEnds(t, journal)
		at := header + int(cut)%(len(journal)-header+1)
		rsmCheckCut(t, journal[:at], at, chk, oracle, full)
	})
}
