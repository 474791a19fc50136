# Sourced by Heroku before every dyno's command (web, scheduler, worker, the release
# phase and `heroku run`): the Rust buildpack leaves the binary at
# $HOME/target/release/orgpool without putting it on PATH, and the Procfile calls a
# bare `orgpool` (as `orgpool dev` and the container image do).
export PATH="$HOME/target/release:$PATH"
