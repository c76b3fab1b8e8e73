"""The Typer CLI. Thin: parse options, call a library function, print the result."""
