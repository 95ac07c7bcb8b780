"""`make bench`: the server under wrk load against a bare Flask baseline, on one machine in one run."""
