"""Binds every .feature file in this folder to pytest (steps live in features/steps/common_steps.py)."""

from pytest_bdd import scenarios

scenarios(".")
