# Sourced by the scripts that run Python tools: makes .venv, the checkout's virtual environment,
# unless a working one is there. Whatever stands at .venv without a runnable Python (a link to a
# folder that is gone, a venv whose creation was interrupted) is removed first: `python3 -m venv`
# refuses a path that exists, and a checkout must not depend on what another machine had.
ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    rm -rf .venv
    python3 -m venv .venv
  fi
}
