"""Deployments and rollbacks: classification, attribution and summaries.

Pure: the functions here take plain values (audit entries as mappings, the
answers of an `Ancestry`) and do no git, network or Flask work.
"""
