"""Checks for the notebooks' exercises: a friendly pass, or a hint, never a wall of traceback, never the answer.

Each check takes the function a student wrote, runs it on a small case with a known answer, prints
the verdict and returns True or False, so a notebook cell can say `assert check_…(my_function)`.
A first failure names the concept; a second one (or `hint("5.2")`) names the ingredients and the
failing case. One module per notebook; every check is importable from here.
"""
from ._core import compare, hint
from .ch00 import check_parity_task, check_silent_mse, check_what_bends
from .ch01 import check_delta_m_percent, check_mlp_parameters, check_wider_or_noise
from .ch02 import check_merge_heads, check_narrowest_winner, check_shared_fraction
from .ch03 import check_affinity_after_step, check_gradient_cosines, check_grouping_score, check_sharing_gains
from .ch04 import check_pareto_optimal, check_standardize, check_static_weight_experiment, check_switch_weight
from .ch05 import check_dwa_temperature, check_gradnorm_balance, check_uncertainty_experiment
from .ch06 import check_hurt_experiment, check_hurt_tasks, check_hurting_weight, check_pcgrad_fixed_order
from .ch07 import check_decay_half_life, check_effective_rank, check_soft_sharing_experiment, check_soft_sharing_gap
from .ch08 import check_add_mmoe_task, check_mask_start, check_stitch_as_hard_sharing
from .ch09 import check_gradient_sum_method, check_pareto_methods, check_win_or_noise
from .ch10 import check_cost_line, check_gradient_cost_growth, check_sampled_loss_variance
from .ch11 import check_best_f1, check_masked_mse, check_missing_label_cost, check_temperature_shares
from .ch12 import check_project_protocol, check_sign_test, check_verdict
