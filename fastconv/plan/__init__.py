from fastconv.plan.planner import Plan, PlanContext, build_plan

__all__ = ["Plan", "PlanContext", "build_plan"]
