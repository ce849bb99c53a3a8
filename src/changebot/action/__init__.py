"""`changebot action`: the flows of the App, driven by a workflow's event.

The runner hands a step its event as environment variables and a JSON file;
the step answers through files (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`) and
workflow commands on stdout. Nothing here judges or records by itself: each
event goes to the flow the App's router would run.

See: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
"""
