#!/usr/bin/env python3
"""Prints the reply as it arrives (the Python twin of stream.c).

    python3 examples/python/stream.py [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...

Ctrl-C stops the reply cleanly: leaving the loop stops the transfer, and
closing the model cancels whatever is still in flight. Exit status 130.
"""
import argparse
import pathlib
import sys

try:
    from openaimodel import OpenAIModel, OpenAIModelError
except ImportError:  # not installed: use the checkout's binding
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
    from openaimodel import OpenAIModel, OpenAIModelError


def main() -> int:
    parser = argparse.ArgumentParser(description="Stream the reply to one question.")
    parser.add_argument("-s", dest="system", help="system instruction")
    parser.add_argument("-m", dest="model", default="gpt-4o-mini", help="model (default gpt-4o-mini)")
    parser.add_argument("question", nargs="+")
    args = parser.parse_args()

    with OpenAIModel(system_instruction=args.system, model_name=args.model, save_dialogue=False) as model:
        try:
            for piece in model.ask_stream(" ".join(args.question)):
                print(piece, end="", flush=True)
            print()
        except KeyboardInterrupt:
            # The generator was left: its transfer stops; `with` closes the
            # model, which cancels anything still running.
            print("\n[cancelled]", file=sys.stderr)
            return 130
        except OpenAIModelError as e:
            print(f"\nstream: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
