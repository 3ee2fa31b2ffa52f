from fastpath.cli import main

main(prog_name="fastpath")  # completion and usage name the command users type
