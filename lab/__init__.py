"""The lab: gateway + simulator wired together on 127.0.0.1 free ports, for developers, features and CI.

It is the only package that imports both sides; neither side imports it (import-linter contracts).
"""

from lab.lab import Lab, LabSecrets

__all__ = ["Lab", "LabSecrets"]
