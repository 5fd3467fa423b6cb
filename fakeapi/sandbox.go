package fakeapi

import (
	"crypto/rand"
	"time"
)

// The sandbox's organisations and cases. Any other well-formed lower-case
// case UUID is a case of SandboxOrg with no escalations yet.
const (
	// SandboxOrg is the organisation of the sandbox key.
	SandboxOrg = "org-demo"
	// SandboxOtherOrg owns SandboxCaseOtherOrg.
	SandboxOtherOrg = "org-other"

	// SandboxCaseNotFound never exists: 400 "Case not found!".
	SandboxCaseNotFound = "7d1e2f40-5a6b-4c7d-8e9f-000000000404"
	// SandboxCaseOtherOrg belongs to SandboxOtherOrg: 401 "Permission
	// denied!", a case of another organisation, not a bad key.
	SandboxCaseOtherOrg = "7d1e2f40-5a6b-4c7d-8e9f-000000000401"
	// SandboxCaseDown is always down: every POST answers 503, so its rows
	// end as error after the client's retries.
	SandboxCaseDown = "7d1e2f40-5a6b-4c7d-8e9f-000000000503"
	// SandboxCaseActive already has an active "support / Refill Request"
	// escalation: sending that again answers 400 "Escalation already
	// active on this case: support / Refill Request".
	SandboxCaseActive = "3f8a1c52-9b7d-4e21-a6c4-5d2e8f1b7a90"
)

// SandboxUsers returns the emails of SandboxOrg's CVTPA users, who may be
// assigned; the caller may change the slice. Any other assignedToEmail
// answers 400 "No assignable user found with
// email ... for this organization".
func SandboxUsers() []string {
	return []string{
		"agent@example.com",
		"nurse.jones@example.com",
		"j.smith@example.com",
	}
}

// SandboxSeed returns the data of the sandbox, without a key:
//
//   - organisation SandboxOrg ("org-demo") owns every well-formed
//     lower-case case UUID except the ones below (AnyCaseOrg), so any
//     sample file finds its cases; rows there are created;
//   - users agent@example.com, nurse.jones@example.com and
//     j.smith@example.com may be assigned; any other email fails;
//   - 7d1e2f40-5a6b-4c7d-8e9f-000000000404 (SandboxCaseNotFound):
//     "Case not found!";
//   - 7d1e2f40-5a6b-4c7d-8e9f-000000000401 (SandboxCaseOtherOrg): a case
//     of "org-other", "Permission denied!";
//   - 7d1e2f40-5a6b-4c7d-8e9f-000000000503 (SandboxCaseDown): always 503;
//   - 3f8a1c52-9b7d-4e21-a6c4-5d2e8f1b7a90 (SandboxCaseActive): already
//     has "support / Refill Request" active, so that row is
//     already_active and the case's other rows are created.
//
// Titles are those of validate.Default().
func SandboxSeed() Seed {
	return Seed{
		Keys:  map[string]string{},
		Cases: map[string]string{SandboxCaseOtherOrg: SandboxOtherOrg},
		Users: map[string][]string{SandboxOrg: SandboxUsers()},
		Active: map[string][]Escalation{
			SandboxCaseActive: {{
				Type:      "support",
				Title:     "Refill Request",
				CreatedAt: time.Date(2025, 5, 12, 10, 0, 0, 0, time.UTC),
			}},
		},
		AnyCaseOrg: SandboxOrg,
		NotFound:   []string{SandboxCaseNotFound},
		Down:       []string{SandboxCaseDown},
	}
}

// Sandbox returns a Server seeded with SandboxSeed and a new random API
// key of SandboxOrg, for the demo and `cvimport import -sandbox`. The
// caller serves it (Start) and may still turn its knobs.
func Sandbox() (*Server, string) {
	key := "sandbox-" + rand.Text()
	seed := SandboxSeed()
	seed.Keys[key] = SandboxOrg
	return New(seed), key
}
