"""Package data that lives outside the package: the library's own data folders stay where the repository keeps
them (``include/criteria/``, ``include/campaigns/``, ``include/templates/``) and a built wheel carries them as
``par_index/bundled/<folder>/``, where ``par_index.paths`` finds them through ``importlib.resources``. Everything
else is configured in pyproject.toml. An editable install (``make install``) copies nothing: ``par_index.paths``
then reads the repository's folders."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("criteria", "campaigns", "templates")  # under include/; kept in the sdist by MANIFEST.in


class BuildPyWithBundledData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, "par_index", "bundled")
        for folder in BUNDLED:
            shutil.rmtree(target / folder, ignore_errors=True)
            shutil.copytree(
                ROOT / "include" / folder,
                target / folder,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "~$*", ".~lock.*"),
            )


setup(cmdclass={"build_py": BuildPyWithBundledData})
