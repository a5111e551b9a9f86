from corpusmill.commands import run

run()
