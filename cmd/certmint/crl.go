package main

import (
	"time"

	"github.com/urfave/cli/v2"
)

func crlCommand() *cli.Command {
	return &cli.Command{
		Name:  "crl",
		Usage: "sign and publish a fresh CRL for every CA into public/",
		Flags: []cli.Flag{homeFlag, caPasswordFileFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			s, err := openCA(c)
			if err != nil {
				return err
			}
			defer s.Close()
			pub, err := s.PublishCRLs(c.Context, time.Now())
			if err != nil {
				return err
			}
			o := output(c)
			if c.Bool(jsonFlag.Name) {
				return o.json(newCRLJSON(pub))
			}
			for _, p := range pub {
				o.infof("%s: CRL number %d, %d revoked, next update %s (%s)", p.Slug, p.Number, p.Entries, p.NextUpdate.Format("2006-01-02 15:04 MST"), p.Path)
			}
			return nil
		},
	}
}
