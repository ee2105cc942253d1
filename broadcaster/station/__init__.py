"""The station itself, one part per concern, each built with its collaborators passed in.

Along the two data paths: text → item file (bulletins, items) and due slot or urgent → card →
as-run row (slots, urgent, gate, asrun, outcomes); runtime is what `serve` runs; the facade is the
thin front the CLI and the web console use. No part imports the facade or calls back into it.
"""
