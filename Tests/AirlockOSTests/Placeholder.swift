import Testing
@testable import AirlockOS
