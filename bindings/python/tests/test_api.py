"""The package as a whole: every exported C function bound, every public name documented and typed."""
import importlib
import inspect
import io
import os
import pkgutil
import re
import unittest

import mlops
from mlops._lib import DECLARED

SYMBOLS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "abi", "mlops.syms")
PACKAGE = os.path.dirname(mlops.__file__)

# Exported functions deliberately left without a Python binding, each with the
# reason it cannot make sense from Python. Empty: every function is bound.
NOT_BOUND = {}


def _modules():
    return [importlib.import_module(f"mlops.{info.name}") for info in pkgutil.iter_modules([PACKAGE])]


def _public_objects():
    """(qualified name, object) of every public class, function, method and property of the package."""
    seen = set()
    for module in [mlops] + _modules():
        if module.__name__.rsplit(".", 1)[-1].startswith("_"):
            continue
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("mlops") or id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{obj.__module__}.{name}", obj
            if not inspect.isclass(obj):
                continue
            for member, value in vars(obj).items():
                if member.startswith("_") and member != "__init__":
                    continue
                if isinstance(value, property):
                    yield f"{obj.__module__}.{name}.{member}", value.fget
                elif inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod)):
                    yield f"{obj.__module__}.{name}.{member}", getattr(value, "__func__", value)


class CompletenessTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(SYMBOLS), "abi/mlops.syms is not next to the bindings")
    def test_every_exported_function_has_a_prototype(self):
        with open(SYMBOLS, encoding="utf-8") as handle:
            exported = {line.strip() for line in handle if line.strip()}
        missing = sorted(exported - DECLARED - set(NOT_BOUND))
        self.assertEqual(missing, [], "exported C functions without a Python binding: " + ", ".join(missing) +
                         ". Declare each in bindings/python/mlops/_lib.py with _declare(name, restype, *argtypes) "
                         "and call it from the module of its subsystem.")
        self.assertEqual(sorted(set(NOT_BOUND) - exported), [], "NOT_BOUND names functions the library lacks")

    def test_every_prototype_is_called_by_the_package(self):
        sources = ""
        for name in sorted(os.listdir(PACKAGE)):
            if name.endswith(".py"):
                with open(os.path.join(PACKAGE, name), encoding="utf-8") as handle:
                    sources += handle.read()
        called = set(re.findall(r"\blib\.(mlops_\w+)", sources))
        unused = sorted(DECLARED - called)
        self.assertEqual(unused, [], "C functions declared in mlops/_lib.py but called by no wrapper: " +
                         ", ".join(unused))


class DocumentationTest(unittest.TestCase):
    maxDiff = None

    def test_every_public_name_has_a_docstring(self):
        undocumented = [name for name, obj in _public_objects()
                        if not name.endswith(".__init__") and not (obj.__doc__ or "").strip()]
        undocumented += [m.__name__ for m in [mlops] + _modules() if not (m.__doc__ or "").strip()]
        self.assertEqual(undocumented, [])

    def test_every_public_callable_has_type_hints(self):
        untyped = []
        for name, obj in _public_objects():
            if inspect.isclass(obj):
                continue
            signature = inspect.signature(obj)
            for parameter in list(signature.parameters.values()):
                if parameter.name in ("self", "cls") or parameter.annotation is not inspect.Parameter.empty:
                    continue
                untyped.append(f"{name}({parameter.name})")
            if signature.return_annotation is inspect.Signature.empty and not name.endswith(".__init__"):
                untyped.append(f"{name} -> ?")
        self.assertEqual(untyped, [])

    def test_help_reads_well(self):
        out = io.StringIO()
        import pydoc
        pydoc.Helper(output=out).help(mlops)
        text = out.getvalue()
        self.assertIn("libmlops from Python", text)
        for name in ("open(path", "class Frame", "class Error", "class Session", "class Registry"):
            self.assertIn(name, text)
        self.assertNotIn("no documentation", text.lower())


if __name__ == "__main__":
    unittest.main()
