print("autoresearch")
