# Generates a C++ file holding the event footprint calculator and the factor library it cites, so
# the binary computes footprints without a data directory, from the same files lint checks.
file(READ "${CALCULATOR}" calculator)
file(READ "${FACTORS}" factors)
get_filename_component(calculator_name "${CALCULATOR}" NAME)
set(body "#include \"neutral/footprint_calculator.h\"\n\nnamespace tph::neutral {\n\n")
string(APPEND body "const char* const kShippedCalculatorFile = \"data/footprints/${calculator_name}\";\n")
string(APPEND body "const char* const kShippedCalculator = R\"tph_toml(${calculator})tph_toml\";\n")
string(APPEND body "const char* const kShippedFactors = R\"tph_toml(${factors})tph_toml\";\n")
string(APPEND body "\n}  // namespace tph::neutral\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
