"""Checks for the notebooks' exercises: a friendly pass, or a hint, never a wall of traceback.

Each check takes the function a student wrote, runs it on a small case with a known answer, prints
the verdict and returns True or False, so a notebook cell can say `assert check_…(my_function)`.
One module per notebook; every check is importable from here.
"""
from .ch00 import check_parity_task
from .ch01 import check_delta_m_percent, check_mlp_parameters, check_select_and_report
from .ch02 import check_add_task, check_shared_fraction, check_split_heads
