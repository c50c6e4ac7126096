
#compdef tokopt

_tokopt_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _TOKOPT_COMPLETE=complete_zsh tokopt)
}

compdef _tokopt_completion tokopt

