from awards import create_app

app = create_app()
