"""The notebook front ends, thin over `login_flow.login`: the magic, the form and what they share.
The only layer that imports IPython or ipywidgets."""
