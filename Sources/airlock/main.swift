import AirlockCLI

AirlockCommand.main()
