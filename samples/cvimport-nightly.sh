#!/usr/bin/env bash
# cvimport-nightly.sh: the nightly job. Sends today's export, and while some
# rows can simply be retried (exit code 3: the API was down, the run hit its
# deadline or was stopped), waits and runs again with -resume, so that rows
# already done are skipped and nothing is created twice.
#
# Every setting has a default and can be overridden from the environment
# (the crontab beside this file shows a typical line):
#   CVIMPORT_BIN          the cvimport binary            (cvimport on PATH)
#   CVIMPORT_INPUT        the export to send             (/srv/care360/exports/escalations.csv)
#   CVIMPORT_OUT_DIR      where results, failures, summaries go (/srv/care360/cvimport)
#   CVIMPORT_KEY_FILE     the API key, alone on one line (/etc/cvimport/api-key)
#   CVIMPORT_TZ           zone of dates written without an offset (America/New_York)
#   CVIMPORT_DEADLINE     start no new case after this clock time (06:30)
#   CVIMPORT_ATTEMPTS     runs at most, while the exit code is 3 (3)
#   CVIMPORT_RETRY_DELAY  seconds between runs (900)
#   CVIMPORT_FLAGS        further flags, e.g. "-rate 5" or "-staging"
#
# cvimport's log goes to $CVIMPORT_OUT_DIR/escalations-DAY.log. The script
# prints nothing when every row is done; otherwise one line saying what the
# exit code asks of a person, which cron mails to MAILTO.
# Exit code: the last run's (0 all done, 1 rows to fix, 2 nothing sent,
# 3 rows still to retry).
set -uo pipefail

bin=${CVIMPORT_BIN:-cvimport}
input=${CVIMPORT_INPUT:-/srv/care360/exports/escalations.csv}
out_dir=${CVIMPORT_OUT_DIR:-/srv/care360/cvimport}
key_file=${CVIMPORT_KEY_FILE:-/etc/cvimport/api-key}
tz=${CVIMPORT_TZ:-America/New_York}
deadline=${CVIMPORT_DEADLINE:-06:30}
attempts=${CVIMPORT_ATTEMPTS:-3}
delay=${CVIMPORT_RETRY_DELAY:-900}
read -r -a extra <<<"${CVIMPORT_FLAGS:-}"

umask 077
mkdir -p "$out_dir" || exit 2

# Fix a clock-time deadline once, as an instant: handed to a retry that
# starts after it, "06:30" would mean the same time tomorrow.
if [[ $deadline =~ ^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$ ]]; then
	deadline=$(date -d "today $deadline" -Iseconds) || exit 2
fi

day=$(date +%F)
stem="$out_dir/escalations-$day"
results="$stem.results.csv"
failures="$stem.failures.csv"
log="$stem.log"

# tell prints the one line a person reads in the morning.
tell() {
	case $1 in
	0) ;;
	1) echo "cvimport: some rows need fixing: edit $failures and run it again with -resume $results (log: $log)" ;;
	2) echo "cvimport: nothing was sent (bad key, unreadable export, or another run): see $log" ;;
	3) echo "cvimport: some rows are still to send after $attempts runs; the next run resumes $results (log: $log)" ;;
	*) echo "cvimport: exit code $1: see $log" ;;
	esac
}

attempt=1
while :; do
	# A results file from an earlier run today (killed, rebooted, or exit
	# 3) is resumed: its done rows are skipped, the rest are sent.
	resume=()
	[ -s "$results" ] && resume=(-resume "$results")

	echo "$(date -Is) cvimport-nightly: run $attempt of $attempts: $input" >>"$log"
	"$bin" import -tz "$tz" -api-key-file "$key_file" -deadline "$deadline" \
		-log-format json -out "$results" -failures "$failures" \
		-summary-json "$stem.summary.json" "${resume[@]}" "${extra[@]}" \
		"$input" >>"$log" 2>&1
	code=$?
	echo "$(date -Is) cvimport-nightly: run $attempt exit code $code" >>"$log"

	if [ "$code" -ne 3 ] || [ "$attempt" -ge "$attempts" ]; then
		tell "$code"
		exit "$code"
	fi
	attempt=$((attempt + 1))
	sleep "$delay"
done
