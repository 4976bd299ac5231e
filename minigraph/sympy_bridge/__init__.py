"""The sympy bridge (imports sympy: import it by name; `import minigraph` does not).
translate.py: graphs <-> formulas; checks.py: gradient checks, equivalence, display.
The public path is `minigraph.symbolic`."""
