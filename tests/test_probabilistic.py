(temporary) see HELPER_BRIEF.md
