# cvimport. Everything here needs only Go: modules come from the module
# proxy, and the tests start the fake API they need in-process on loopback.

GO      ?= go
BIN     := bin/cvimport
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 15s
# A fuzzer that finds a new input may spend long minimizing it; cap that.
FUZZMIN  ?= 5s
DEMO    := demo

.PHONY: build test bench fuzz demo clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# Unit and end-to-end tests under the race detector, and go vet.
test:
	$(GO) mod download
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Speed and memory figures quoted in the README (about 3 minutes).
bench:
	$(GO) test -run '^$$' -bench 'DryRun|BareCSV|PlanInMemory' -benchtime 1x \
		-count 3 ./importer/
	$(GO) test -run '^$$' -bench 'Send' -benchtime 1x ./importer/
	$(GO) test -run '^$$' -bench 'ResumeFinished100k' -benchtime 3x -count 3 .
	$(GO) test -run '^$$' -bench . ./report/ ./validate/

# A short, bounded run of every fuzz target.
FUZZ = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN)
fuzz:
	$(FUZZ) -fuzz '^FuzzReadPlan$$' ./importer/
	$(FUZZ) -fuzz '^FuzzLoadResume$$' ./importer/
	$(FUZZ) -fuzz '^FuzzCheck$$' ./validate/
	$(FUZZ) -fuzz '^FuzzParseDate$$' ./validate/
	$(FUZZ) -fuzz '^FuzzParseEmail$$' ./validate/
	$(FUZZ) -fuzz '^FuzzClassify$$' ./api/
	$(FUZZ) -fuzz '^FuzzCheckBody$$' ./fakeapi/

# The bundled sample, three ways: checked only; sent to the built-in fake
# API; sent again with -resume, so the rows already done are skipped.
demo: build
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo '== 1. dry run: check every row, send nothing'
	@$(BIN) import -dry-run -out $(DEMO)/dry.results.csv \
		-failures $(DEMO)/dry.failures.csv samples/escalations.csv; \
		echo "exit code $$?"
	@echo
	@echo '== 2. send to the built-in fake API (no key, no network)'
	@$(BIN) import -sandbox -rate 10 -workers 4 -retries 2 \
		-out $(DEMO)/results.csv -failures $(DEMO)/failures.csv \
		samples/escalations.csv; echo "exit code $$?"
	@echo
	@echo '== 3. run again with -resume: rows already done are skipped'
	@$(BIN) import -sandbox -rate 10 -workers 4 -retries 2 \
		-resume $(DEMO)/results.csv -out $(DEMO)/results.csv \
		-failures $(DEMO)/failures.csv samples/escalations.csv; \
		echo "exit code $$?"
	@echo
	@echo "results: $(DEMO)/results.csv   failures: $(DEMO)/failures.csv"

clean:
	rm -rf bin $(DEMO)
