Feature: Secrets stay secret
  As a shop owner handing the gateway my bank password, my Ecwid token and my keys
  I want none of them ever shown to a customer, written to a log or stored in the clear
  So that a screenshot, a log file or a database backup can never give my shop away

  @RC-25 @simulator @desktop
  Scenario: A declined card and then a paid order show the customer no secret anywhere
    Given a customer shopping in the store on a desktop browser
    And everything the customer's browser receives is watched for secrets
    When the customer orders 1 "Gata" and goes to pay
    And pays on the bank page with card "4000000000009995"
    And the customer pays again with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And no address, header or page the customer's browser received holds a secret

  @RC-25 @simulator @desktop
  Scenario: The gateway's logs and database hold no secret in the clear; the Ecwid token is encrypted at rest
    Given the gateway's log is read from this point on
    And a customer shopping in the store on a desktop browser
    When the customer orders 2 "Lavash" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And the gateway's log lines since then hold no secret
    And the gateway's database holds no secret in the clear
    And the store's Ecwid token is kept encrypted and opens only with the gateway's token key
