"""Runs unittest modules and writes each test's outcome as JSON (argv[1]: the output file; the rest: module names).

The runner of test/support/python-e2e.ts: the Kubernetes Python client's own e2e suite is read where it
lies (../shared), never copied; this only reports what unittest saw, test by test, with the error text.
"""
import json
import sys
import traceback
import unittest


class Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _set(self, test, outcome, detail=''):
        self.outcomes[test.id()] = {'outcome': outcome, 'detail': detail}

    def addSuccess(self, test):
        super().addSuccess(test)
        self._set(test, 'pass')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, 'fail', ''.join(traceback.format_exception(*err)))

    def addError(self, test, err):
        super().addError(test, err)
        self._set(test, 'fail', ''.join(traceback.format_exception(*err)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._set(test, 'skip', reason)


def main():
    out, modules = sys.argv[1], sys.argv[2:]
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(resultclass=Recorder, verbosity=2, stream=sys.stderr).run(suite)
    with open(out, 'w') as f:
        json.dump(result.outcomes, f, indent=1)


main()
