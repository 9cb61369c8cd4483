#!/usr/bin/env python3
"""Asks one question and prints the reply (the Python twin of ask.c).

    python3 examples/python/ask.py [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...

The key and the server come from OPENAI_API_KEY and OPENAI_BASE_URL. From a
checkout, the package is taken from bindings/python when it is not installed.
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
    parser = argparse.ArgumentParser(description="Ask one question.")
    parser.add_argument("-s", dest="system", help="system instruction")
    parser.add_argument("-m", dest="model", default="gpt-4o-mini", help="model (default gpt-4o-mini)")
    parser.add_argument("question", nargs="+")
    args = parser.parse_args()

    # save_dialogue=False: one question needs no dialogue file.
    with OpenAIModel(system_instruction=args.system, model_name=args.model, save_dialogue=False) as model:
        try:
            print(model.ask(" ".join(args.question)))
        except OpenAIModelError as e:  # every failure of the library
            print(f"ask: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
