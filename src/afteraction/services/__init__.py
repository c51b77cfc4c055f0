"""Use cases, one module each: web, CLI and jobs call these; they call storage and adapters."""
