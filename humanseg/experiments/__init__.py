"""Experiment machinery that is more than a thin tool: each experiment a package of small modules."""
