"""Coverage-guided fuzzing of the parsers (atheris): targets, runner, regression corpus.

``targets`` holds one function per parser that takes the fuzzer's bytes and may raise only that
component's own errors; ``python -m tests.reliability.fuzz NAME`` runs atheris on one of them
(``--all``: every one, each in its own process); ``tests/reliability/corpus/NAME/`` holds the
seeds and every input that once crashed a target, replayed by ``test_fuzz.py``.
"""
