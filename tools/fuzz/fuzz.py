"""Coverage-guided fuzzing of one file reader with atheris: python tools/fuzz/fuzz.py NAME [libFuzzer flags].

NAME is a key of targets.TARGETS; the flags and corpus folders go to libFuzzer as they are (tools/fuzz.sh
passes them). pycnn and the standard-library parsers the readers call are instrumented so that coverage
guides the mutations; an exception that breaks the target's contract stops the run with a crash file.
"""

import sys

import atheris

# Instrument the Python code the readers run (the C parts, json's scanner and _pickle, are not).
with atheris.instrument_imports(include=["pycnn", "tarfile", "gzip", "pickle", "json", "PIL", "targets"]):
    import targets

    if sys.argv[1:2] == ["image"]:
        try:
            from PIL import Image

            Image.init()  # Pillow imports its format plugins on first use: import them here, instrumented
        except ImportError:  # the target then fails with ImageFolder's install hint
            pass


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        sys.exit(f"usage: fuzz.py NAME [libFuzzer flags] [corpus dirs]; NAME is one of {', '.join(targets.TARGETS)}")
    target = targets.TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
