#!/usr/bin/env python3
"""Asks a vision model what an image shows (the Python twin of describe_image.c).

    python3 examples/python/describe_image.py [-t] IMAGE [PROMPT]

IMAGE is a local PNG, JPEG, GIF or WebP file or an http(s) URL. The result
of describe_image() is the model's JSON answer as a dict or list, or
{"description": text} when it answered in prose; -t prints the reply text as
it came (describe_image_by_requests).
"""
import argparse
import json
import pathlib
import sys

try:
    from openaimodel import OpenAIModel, OpenAIModelError
except ImportError:  # not installed: use the checkout's binding
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
    from openaimodel import OpenAIModel, OpenAIModelError


def main() -> int:
    parser = argparse.ArgumentParser(description="Describe an image.")
    parser.add_argument("-t", dest="text", action="store_true", help="print the reply text as is")
    parser.add_argument("image")
    parser.add_argument("prompt", nargs="?", help="default: What's in this image?")
    args = parser.parse_args()

    with OpenAIModel(save_dialogue=False) as model:
        try:
            if args.text:
                print(model.describe_image_by_requests(args.image, args.prompt))
                return 0
            result = model.describe_image(args.image, args.prompt)
        except OpenAIModelError as e:  # a missing or unsupported file fails before any request
            print(f"describe_image: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    if isinstance(result, dict) and list(result) == ["description"]:
        print(result["description"])
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
