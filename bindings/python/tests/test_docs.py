"""The Python snippets of docs/python.md run, in order, in one namespace."""
import contextlib
import io
import os
import re
import tempfile
import unittest

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "python.md")


class GuideTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(GUIDE), "docs/python.md is not next to the bindings")
    def test_snippets_run(self):
        with open(GUIDE, encoding="utf-8") as handle:
            blocks = re.findall(r"```python\n(.*?)```", handle.read(), re.S)
        self.assertGreaterEqual(len(blocks), 8)
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as directory:
            os.chdir(directory)
            try:
                namespace = {"__name__": "guide"}
                with contextlib.redirect_stdout(io.StringIO()) as printed:
                    exec(compile("\n".join(blocks), "docs/python.md", "exec"), namespace)
            finally:
                os.chdir(here)
        self.assertIn("refuses version 2", printed.getvalue())


if __name__ == "__main__":
    unittest.main()
