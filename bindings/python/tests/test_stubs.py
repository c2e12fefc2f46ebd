"""The stub (__init__.pyi) declares exactly the error classes the module builds from the
engine's code table, and every public class and method the runtime has."""

import ast
import inspect
import os

import tandem

STUB = os.path.join(os.path.dirname(tandem.__file__), "__init__.pyi")


def stub_classes():
    with open(STUB) as f:
        tree = ast.parse(f.read())
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def test_error_classes_in_stub_equal_runtime_table():
    classes = stub_classes()
    in_stub = {name for name, n in classes.items() if any(getattr(b, "id", None) == "TandemError" for b in n.bases)}
    runtime = {cls.__name__ for cls in tandem.ERRORS.values()}
    assert in_stub == runtime
    for code, cls in tandem.ERRORS.items():
        assert cls.code == code and issubclass(cls, tandem.TandemError)
        assert getattr(tandem, cls.__name__) is cls
    assert sorted(tandem.ERRORS) == list(range(1, len(tandem.ERRORS) + 1))
    assert tandem.NotFoundError.name == "not_found" and tandem.NotFoundError.code == 2


def test_stub_methods_equal_runtime_methods():
    classes = stub_classes()
    for cls in (tandem.Engine, tandem.Domain, tandem.Model, tandem.Subscription):
        stub = {n.name for n in classes[cls.__name__].body if isinstance(n, ast.FunctionDef)}
        runtime = {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}
        runtime |= {n for n in ("__enter__", "__exit__", "__iter__", "__next__", "__aiter__", "__anext__") if n in vars(cls)}
        assert stub == runtime, f"{cls.__name__}: stub-only {stub - runtime}, runtime-only {runtime - stub}"
